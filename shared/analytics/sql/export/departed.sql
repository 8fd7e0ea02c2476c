-- The `departed` table of the Parquet layout: register members each household's latest
-- response leaves out, with the reason (died, moved_out, not_a_member), from the table's
-- export in DynamoDB JSON (see household.sql). A departure is "<nik>|<reason>" (or, as stored
-- before, a map). `regency` (the partition) last.
WITH meta AS (
    SELECT item.pk.s AS pk, item.sls_code.s AS sls_code, CAST(item.version.n AS INTEGER) AS version
    FROM dynamodb_export
    WHERE
        export_id = '$export_id'
        AND item.sk.s = 'META'
        AND starts_with(item.pk.s, 'HH#')
        AND CAST(item.version.n AS INTEGER) > 0
),
latest AS (
    SELECT m.pk, m.sls_code, m.version, v.item.departed.l AS departed
    FROM meta AS m
    JOIN dynamodb_export AS v
        ON v.item.pk.s = m.pk AND v.item.sk.s = 'V#' || lpad(CAST(m.version AS VARCHAR), 10, '0')
    WHERE v.export_id = '$export_id' AND v.item.departed.l IS NOT NULL
)
SELECT
    substr(l.pk, 4) AS kk,
    COALESCE(t.gone.m.nik.s, split_part(t.gone.s, '|', 1)) AS nik,
    COALESCE(t.gone.m.reason.s, nullif(split_part(t.gone.s, '|', 2), '')) AS reason,
    substr(l.sls_code, 1, 4) AS regency_code,
    substr(l.sls_code, 1, 10) AS village_code,
    l.sls_code,
    l.version,
    substr(l.sls_code, 1, 4) AS regency
FROM latest AS l
CROSS JOIN UNNEST(l.departed) AS t(gone)
