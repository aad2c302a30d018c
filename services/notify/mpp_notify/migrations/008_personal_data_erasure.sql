-- Erasure of the recipient when a message's or a contact's retention period
-- has passed (mpp_notify/store/retention.py): a message keeps its ids,
-- event, channel, provider, states, dates and counts; its address (encrypted
-- and as blind index), masked address, text and template parameters go, and
-- this records when. A kept contact (`recipients`) loses its ciphertext.
ALTER TABLE delivery_log
    ADD COLUMN personal_data_erased_at timestamptz,
    ALTER COLUMN recipient_index DROP NOT NULL;  -- NULL once erased (NULLs stay distinct)
ALTER TABLE recipients ADD COLUMN personal_data_erased_at timestamptz;

-- What the retention job looks at: messages that ended, not erased yet.
CREATE INDEX delivery_log_retention ON delivery_log (created_at)
    WHERE personal_data_erased_at IS NULL AND status IN ('delivered', 'sent', 'dead');
CREATE INDEX recipients_retention ON recipients (created_at)
    WHERE personal_data_erased_at IS NULL AND contact_enc IS NOT NULL;
