-- Persons by relationship to the head of the household, for an area and each of its
-- child areas. Output: area_code, row_label (relationship), column_label ('persons'), n.
WITH people AS (
    SELECT sls_code, relationship
    FROM person
    WHERE starts_with(sls_code, '$area')
),
both_levels AS (
    SELECT '$area' AS area_code, relationship FROM people
    UNION ALL
    SELECT substr(sls_code, 1, $child_length) AS area_code, relationship FROM people
)
SELECT area_code, relationship AS row_label, 'persons' AS column_label, count(*) AS n
FROM both_levels
GROUP BY area_code, relationship
