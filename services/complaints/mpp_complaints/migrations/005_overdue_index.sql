-- The gauge of overdue complaints per OPD (mpp.complaints.overdue) reads only
-- the complaints whose step still runs, in the order of their deadlines,
-- however many closed complaints the years pile up.
CREATE INDEX complaints_open_step_due ON complaints (step_due_at)
    WHERE step IN ('verification', 'follow_up') AND status NOT IN ('closed', 'rejected');
