-- A project's completed tasks per ISO week (UTC) and their cycle times, in
-- one statement. Only the non-empty weeks come back (Go adds the empty
-- ones), and one more row with week NULL for the whole window.
--
-- Costs follow the window's completions, not the tables': they are read
-- from task_status_changes (project_id, to_status, changed_at), each one's
-- first move to IN_PROGRESS from (task_id, to_status, changed_at), its task
-- by primary key.
-- $1 project ID, $2 the window's start (a Monday, 00:00 UTC), $3 its end (exclusive).
WITH done AS (
	-- A task counts once per week: its last move to DONE in the week.
	SELECT DISTINCT ON (task_id, week) task_id, week, changed_at
	FROM (
		SELECT task_id, changed_at, date_trunc('week', changed_at AT TIME ZONE 'UTC') AS week
		FROM task_status_changes
		WHERE project_id = $1 AND to_status = 'DONE'
		  AND changed_at >= $2::timestamptz AND changed_at < $3::timestamptz
	) c
	ORDER BY task_id, week, changed_at DESC
),
cycles AS (
	-- From the task's first move to IN_PROGRESS (before the completion),
	-- or its creation if it never was IN_PROGRESS, to the completion.
	SELECT d.week, date_part('epoch', d.changed_at - coalesce(s.started, t.created_at)) / 3600 AS hours
	FROM done d
	JOIN tasks t ON t.id = d.task_id
	CROSS JOIN LATERAL (
		SELECT min(s.changed_at) AS started
		FROM task_status_changes s
		WHERE s.task_id = d.task_id AND s.to_status = 'IN_PROGRESS' AND s.changed_at <= d.changed_at
	) s
)
SELECT to_char(week, 'YYYY-MM-DD') AS week, count(*) AS completed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY hours) AS p95
FROM cycles
GROUP BY GROUPING SETS ((week), ())
