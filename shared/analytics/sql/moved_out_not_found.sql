-- Register members a household marked `moved_out` who appear in no household's latest
-- response: possibly counted nowhere. Listed by the household that left them out.
SELECT d.nik, d.kk, d.sls_code, d.version
FROM departed AS d
WHERE
    d.reason = 'moved_out'
    AND starts_with(d.sls_code, '$area')
    AND NOT EXISTS (SELECT 1 FROM person AS p WHERE p.nik = d.nik)
ORDER BY d.sls_code, d.kk, d.nik
