-- The insights of one project in one statement: one round trip and one
-- snapshot, so every number describes the same moment. Rows are only
-- aggregated here; the JSON document that leaves PostgreSQL holds a few
-- hundred groups at most, which Go sums up and orders.
--
-- Costs follow the window's size, not the tables': the window's feedback is
-- read twice through the (project_id, created_at) index (cheaper than
-- materialising it), its suggestions through the covering
-- adjustment_feedback_id index alone.
-- $1 project ID, $2 since (inclusive, NULL = open), $3 until (exclusive, NULL = open),
-- $4 how many reasons, $5 how many tasks to list.
WITH fbagg AS (
	-- Feedback per UTC day and status, per task, and per failure reason
	-- (reasons differing only in spacing are one).
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
models AS MATERIALIZED (
	-- Per provider and model, and overall: how many COMPLETED, their times
	-- from submission in milliseconds, their tokens and estimated cost
	-- (null when none has one; unpriced counts those with tokens but no
	-- cost), and the feedback IDs. Only the overall row counts the tokens
	-- of FAILED feedback, which records no model: the models listed are
	-- those with COMPLETED feedback.
	SELECT GROUPING(provider, model) = 3 AS overall, provider, model,
	       count(ms) AS count,
	       percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY ms) AS p,
	       coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
	       sum(estimated_cost) AS cost,
	       count(*) FILTER (WHERE estimated_cost IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)) AS unpriced,
	       array_agg(id) AS ids
	FROM (
		SELECT id, provider, model, input_tokens, output_tokens, estimated_cost,
		       CASE WHEN status = 'COMPLETED' THEN date_part('epoch', processed_at - created_at) * 1000 END AS ms
		FROM feedbacks
		WHERE project_id = $1
		  AND created_at >= coalesce($2::timestamptz, '-infinity')
		  AND created_at < coalesce($3::timestamptz, 'infinity')
	) f
	GROUP BY GROUPING SETS ((provider, model), ())
),
adj AS (
	-- Each model's suggestions, by type and decision and by task. One
	-- index-only scan per model looks the IDs up in adjustment_feedback_id;
	-- hashing the model into every suggestion's group key cost more, and a
	-- join let the planner hash the whole table once it held a few hundred
	-- thousand rows (it prices index probes as disk reads).
	SELECT m.provider, m.model, a.*
	FROM models m
	CROSS JOIN LATERAL (
		SELECT GROUPING(a.task_id) = 0 AS by_task, a.adjustment_type AS type, a.status, a.task_id, count(*) AS count
		FROM adjustments a
		WHERE a.feedback_id = ANY (m.ids)
		GROUP BY GROUPING SETS ((a.adjustment_type, a.status), (a.task_id))
	) a
	WHERE NOT m.overall
),
runs AS (
	-- Per provider and model, the analyses recorded in the window
	-- (analyses' own created_at): primary ones, comparison runs by status,
	-- the model's answer times (percentile_cont skips the NULLs of
	-- reused and pending ones) and the comparison runs' tokens and cost.
	SELECT provider, model,
	       count(*) FILTER (WHERE is_primary) AS primary_count,
	       count(*) FILTER (WHERE NOT is_primary AND status = 'COMPLETED') AS completed,
	       count(*) FILTER (WHERE NOT is_primary AND status = 'FAILED') AS failed,
	       count(*) FILTER (WHERE NOT is_primary AND status = 'PENDING') AS pending,
	       count(latency_ms) AS latency_count,
	       percentile_cont(ARRAY[0.5, 0.95]) WITHIN GROUP (ORDER BY latency_ms) AS p,
	       coalesce(sum(input_tokens) FILTER (WHERE NOT is_primary), 0) AS input_tokens,
	       coalesce(sum(output_tokens) FILTER (WHERE NOT is_primary), 0) AS output_tokens,
	       sum(estimated_cost) FILTER (WHERE NOT is_primary) AS cost,
	       count(*) FILTER (WHERE NOT is_primary AND estimated_cost IS NULL AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL)) AS unpriced
	FROM analyses
	WHERE project_id = $1
	  AND created_at >= coalesce($2::timestamptz, '-infinity')
	  AND created_at < coalesce($3::timestamptz, 'infinity')
	GROUP BY provider, model
)
SELECT json_build_object(
	'runs', (SELECT coalesce(json_agg(r), '[]') FROM runs r),
	'days', (SELECT coalesce(json_agg(d), '[]') FROM (SELECT day, status, count FROM fbagg WHERE kind = 'day') d),
	'processing', (SELECT coalesce(json_agg(pt), '[]') FROM (SELECT overall, provider, model, count, p, input_tokens, output_tokens, cost, unpriced FROM models WHERE count > 0 OR overall) pt),
	'reasons', (
		SELECT coalesce(json_agg(r ORDER BY r.count DESC, r.reason NULLS LAST), '[]')
		FROM (SELECT reason, count FROM fbagg WHERE kind = 'reason' AND status = 'FAILED' ORDER BY count DESC, reason NULLS LAST LIMIT $4::int) r
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
			LIMIT $5::int
		) t
	)
)
