-- A citizen-facing event may arrive before the event that names the contact
-- (topics are not ordered with each other): it waits in the journal, marked
-- with its subject ("application:<id>"), until the contact comes.
ALTER TABLE event_journal ADD COLUMN awaits_contact text;
CREATE INDEX event_journal_awaiting ON event_journal (awaits_contact)
    WHERE awaits_contact IS NOT NULL;

-- A subject whose first event said there is no contact (anonymous complaint,
-- no phone or e-mail given): known, with nobody to tell.
ALTER TABLE recipients ALTER COLUMN contact_enc DROP NOT NULL;
