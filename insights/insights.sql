-- The insights of one project in one statement: one round trip and one
-- snapshot, so every number describes the same moment. Each table is read
-- once; the aggregates leave PostgreSQL as one small JSON document.
-- $1 project ID, $2 since (inclusive, NULL = open), $3 until (exclusive, NULL = open).
WITH fb AS MATERIALIZED (
	-- The window's feedback, by the (project_id, created_at) index.
	SELECT id, status, created_at, processed_at, error, provider, model, task_id
	FROM feedbacks
	WHERE project_id = $1
	  AND created_at >= coalesce($2::timestamptz, '-infinity')
	  AND created_at < coalesce($3::timestamptz, 'infinity')
),
adj AS MATERIALIZED (
	-- Their suggestions in one pass, counted per type, per type and model
	-- (the model that analysed the feedback) and per task.
	SELECT CASE WHEN GROUPING(a.task_id) = 0 THEN 'task'
	            WHEN GROUPING(fb.provider, fb.model) = 0 THEN 'model'
	            ELSE 'type' END AS kind,
	       fb.provider, fb.model, a.adjustment_type AS type, a.task_id,
	       count(*) FILTER (WHERE a.status = 'APPLIED') AS applied,
	       count(*) FILTER (WHERE a.status = 'REJECTED') AS rejected,
	       count(*) FILTER (WHERE a.status = 'PROPOSED') AS pending
	FROM fb
	JOIN adjustments a ON a.feedback_id = fb.id
	GROUP BY GROUPING SETS ((a.adjustment_type), (fb.provider, fb.model, a.adjustment_type), (a.task_id))
)
SELECT json_build_object(
	'days', (
		-- Feedback per UTC day and status.
		SELECT coalesce(json_agg(d), '[]')
		FROM (
			SELECT (created_at AT TIME ZONE 'UTC')::date AS date, status, count(*) AS count
			FROM fb
			GROUP BY 1, 2
		) d
	),
	'processing', (
		-- Submitted to COMPLETED in milliseconds, overall and per model.
		SELECT coalesce(json_agg(pt), '[]')
		FROM (
			SELECT GROUPING(provider, model) = 3 AS overall, provider, model, count(*) AS count,
			       percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - created_at)::float8 * 1000) AS p
			FROM fb
			WHERE status = 'COMPLETED' AND processed_at IS NOT NULL
			GROUP BY GROUPING SETS ((), (provider, model))
		) pt
	),
	'reasons', (
		-- Reasons differing only in spacing are one reason.
		SELECT coalesce(json_agg(r ORDER BY r.count DESC, r.reason NULLS LAST), '[]')
		FROM (
			SELECT nullif(btrim(regexp_replace(error, '\s+', ' ', 'g')), '') AS reason, count(*) AS count
			FROM fb
			WHERE status = 'FAILED'
			GROUP BY 1
			ORDER BY count(*) DESC, 1 NULLS LAST
			LIMIT 5
		) r
	),
	'suggestions', (
		SELECT coalesce(json_agg(s), '[]') FROM (SELECT * FROM adj WHERE kind <> 'task') s
	),
	'tasks', (
		-- A task is mentioned by each feedback submitted on it and each
		-- suggestion about it; only tasks still in the project count.
		SELECT coalesce(json_agg(t ORDER BY t.feedback + t.suggestions DESC, t.feedback DESC, t.id), '[]')
		FROM (
			SELECT m.task_id AS id, sum(m.feedback) AS feedback, sum(m.suggestions) AS suggestions
			FROM (
				SELECT task_id, count(*) AS feedback, 0 AS suggestions FROM fb WHERE task_id IS NOT NULL GROUP BY task_id
				UNION ALL
				SELECT task_id, 0, applied + rejected + pending FROM adj WHERE kind = 'task' AND task_id IS NOT NULL
			) m
			JOIN tasks ON tasks.id = m.task_id AND tasks.project_id = $1
			GROUP BY m.task_id
			ORDER BY sum(m.feedback) + sum(m.suggestions) DESC, sum(m.feedback) DESC, m.task_id
			LIMIT 10
		) t
	)
)
