-- People counted twice: every NIK in the latest responses of two or more households.
-- One row per (person, household, other household), so each household of a pair has its
-- own row naming the other, with the version the check saw (the marking is conditional
-- on it). Listed when either household is in the area.
SELECT
    a.nik,
    a.kk,
    a.sls_code,
    a.status,
    a.version,
    b.kk AS other_kk,
    b.sls_code AS other_sls_code
FROM person AS a
JOIN person AS b ON a.nik = b.nik AND a.kk <> b.kk
WHERE starts_with(a.sls_code, '$area') OR starts_with(b.sls_code, '$area')
ORDER BY a.nik, a.kk, b.kk
