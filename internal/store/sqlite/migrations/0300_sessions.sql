-- Sessions (the dashboard's grouped conversations): traces by session id, for the session
-- listing's GROUP BY and the trace list's session filter. Numbered from 0300 so that these
-- migrations never collide with others'.

CREATE INDEX traces_session ON traces (project_id, session_id, start_time) WHERE session_id <> '';
