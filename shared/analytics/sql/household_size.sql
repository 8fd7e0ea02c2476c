-- Households by size (members in the latest response; 10 or more is one group), for an
-- area and each of its child areas. Households without a response have no size and are
-- not counted here (response_channel.sql counts them).
-- Output: area_code, row_label (size), column_label ('households'), n.
WITH sized AS (
    SELECT sls_code, CASE WHEN size >= 10 THEN '10+' ELSE CAST(size AS VARCHAR) END AS size_group
    FROM household
    WHERE starts_with(sls_code, '$area') AND size IS NOT NULL
),
both_levels AS (
    SELECT '$area' AS area_code, size_group FROM sized
    UNION ALL
    SELECT substr(sls_code, 1, $child_length) AS area_code, size_group FROM sized
)
SELECT area_code, size_group AS row_label, 'households' AS column_label, count(*) AS n
FROM both_levels
GROUP BY area_code, size_group
