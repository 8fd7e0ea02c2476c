-- Households by how they were counted, for an area and each of its child areas:
-- 'online' (self-enumerated), 'interview' (an officer's interview), 'enrolled_in_field'
-- (a household the register missed, enrolled by an officer: counted here, not under
-- 'interview'), 'not_responded' (no response stored yet), and 'registered' (every
-- household, the response rate's denominator). Output: area_code, row_label (channel),
-- column_label ('households'), n. The response rate is (online + interview +
-- enrolled_in_field) / registered, computed from these rows (shared/analytics).
WITH counted AS (
    SELECT
        sls_code,
        CASE
            WHEN enrolled_in_field THEN 'enrolled_in_field'
            WHEN channel IS NULL THEN 'not_responded'
            ELSE channel
        END AS how
    FROM household
    WHERE starts_with(sls_code, '$area')
),
both_levels AS (
    SELECT '$area' AS area_code, how FROM counted
    UNION ALL
    SELECT substr(sls_code, 1, $child_length) AS area_code, how FROM counted
)
SELECT area_code, how AS row_label, 'households' AS column_label, count(*) AS n
FROM both_levels
GROUP BY area_code, how
UNION ALL
SELECT area_code, 'registered' AS row_label, 'households' AS column_label, count(*) AS n
FROM both_levels
GROUP BY area_code
