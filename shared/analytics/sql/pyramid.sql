-- Population by sex and five-year age group (the age-sex pyramid), for an area and each
-- of its child areas. Age is at the census reference date (the export computes it);
-- everyone 75 or older is one group. Persons born after the reference date (age NULL)
-- are not counted. Output: area_code, row_label (age group), column_label (sex), n.
WITH people AS (
    SELECT
        sls_code,
        sex,
        CASE WHEN age >= 75 THEN 75 ELSE age - age % 5 END AS age_from
    FROM person
    WHERE starts_with(sls_code, '$area') AND age IS NOT NULL
),
both_levels AS (
    SELECT '$area' AS area_code, sex, age_from FROM people
    UNION ALL
    SELECT substr(sls_code, 1, $child_length) AS area_code, sex, age_from FROM people
)
SELECT
    area_code,
    CASE
        WHEN age_from = 75 THEN '75+'
        ELSE CAST(age_from AS VARCHAR) || '-' || CAST(age_from + 4 AS VARCHAR)
    END AS row_label,
    sex AS column_label,
    count(*) AS n
FROM both_levels
GROUP BY area_code, age_from, sex
