-- The insights of one project in one statement: one round trip and one
-- snapshot, so every number describes the same moment. Rows are only
-- aggregated here; the small JSON document that leaves PostgreSQL holds a
-- few hundred groups at most, which Go sums up and orders.
--
-- Each source is read with the window's predicate on the (project_id,
-- created_at) index rather than materialised in a CTE: on 10,000 rows a
-- second index range scan is cheaper than a tuplestore.
-- $1 project ID, $2 since (inclusive, NULL = open), $3 until (exclusive, NULL = open).
WITH fbagg AS (
	-- The feedback in one pass: per UTC day and status, per task, and per
	-- failure reason (reasons differing only in spacing are one).
	SELECT CASE WHEN GROUPING(task_id) = 0 THEN 'task' WHEN GROUPING(reason) = 0 THEN 'reason' ELSE 'day' END AS kind,
	       day, status, task_id, reason, count(*) AS count
	FROM (
		SELECT status, task_id, (created_at AT TIME ZONE 'UTC')::date AS day,
		       CASE WHEN status = 'FAILED' THEN nullif(btrim(regexp_replace(error, '\s+', ' ', 'g')), '') END AS reason
		FROM feedbacks
		WHERE project_id = $1
		  AND created_at >= coalesce($2::timestamptz, '-infinity')
		  AND created_at < coalesce($3::timestamptz, 'infinity')
	) f
	GROUP BY GROUPING SETS ((day, status), (task_id), (status, reason))
),
adj AS (
	-- Their suggestions in one pass: per model of the feedback, type and
	-- decision; and per task. Each feedback's suggestions come from the
	-- covering adjustment_feedback_id index (index-only). OFFSET 0 keeps the
	-- lookup per feedback: otherwise the planner, pricing index probes as
	-- disk reads, prefers hashing the whole adjustments table once it holds a
	-- few hundred thousand rows, and the cost grows with every project's
	-- suggestions instead of this window's.
	SELECT GROUPING(a.task_id) = 0 AS by_task, f.provider, f.model, a.adjustment_type AS type, a.status, a.task_id, count(*) AS count
	FROM feedbacks f
	CROSS JOIN LATERAL (
		SELECT a.adjustment_type, a.status, a.task_id FROM adjustments a WHERE a.feedback_id = f.id OFFSET 0
	) a
	WHERE f.project_id = $1
	  AND f.created_at >= coalesce($2::timestamptz, '-infinity')
	  AND f.created_at < coalesce($3::timestamptz, 'infinity')
	GROUP BY GROUPING SETS ((f.provider, f.model, a.adjustment_type, a.status), (a.task_id))
)
SELECT json_build_object(
	'days', (SELECT coalesce(json_agg(d), '[]') FROM (SELECT day, status, count FROM fbagg WHERE kind = 'day') d),
	'processing', (
		-- Submitted to COMPLETED in milliseconds, overall and per model.
		SELECT coalesce(json_agg(pt), '[]')
		FROM (
			SELECT GROUPING(provider, model) = 3 AS overall, provider, model, count(*) AS count,
			       percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY date_part('epoch', processed_at - created_at) * 1000) AS p
			FROM feedbacks
			WHERE project_id = $1
			  AND created_at >= coalesce($2::timestamptz, '-infinity')
			  AND created_at < coalesce($3::timestamptz, 'infinity')
			  AND status = 'COMPLETED' AND processed_at IS NOT NULL
			GROUP BY GROUPING SETS ((), (provider, model))
		) pt
	),
	'reasons', (
		SELECT coalesce(json_agg(r ORDER BY r.count DESC, r.reason NULLS LAST), '[]')
		FROM (SELECT reason, count FROM fbagg WHERE kind = 'reason' AND status = 'FAILED' ORDER BY count DESC, reason NULLS LAST LIMIT 5) r
	),
	'suggestions', (SELECT coalesce(json_agg(s), '[]') FROM (SELECT provider, model, type, status, count FROM adj WHERE NOT by_task) s),
	'tasks', (
		-- A task is mentioned by each feedback submitted on it and each
		-- suggestion about it; only tasks still in the project count.
		SELECT coalesce(json_agg(t ORDER BY t.feedback + t.suggestions DESC, t.feedback DESC, t.id), '[]')
		FROM (
			SELECT m.task_id AS id, sum(m.feedback) AS feedback, sum(m.suggestions) AS suggestions
			FROM (
				SELECT task_id, count AS feedback, 0 AS suggestions FROM fbagg WHERE kind = 'task' AND task_id IS NOT NULL
				UNION ALL
				SELECT task_id, 0, count FROM adj WHERE by_task AND task_id IS NOT NULL
			) m
			JOIN tasks ON tasks.id = m.task_id AND tasks.project_id = $1
			GROUP BY m.task_id
			ORDER BY sum(m.feedback) + sum(m.suggestions) DESC, sum(m.feedback) DESC, m.task_id
			LIMIT 10
		) t
	)
)
