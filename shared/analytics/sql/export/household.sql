-- The `household` table of the Parquet layout, from the table's export in DynamoDB JSON
-- (`dynamodb_export`: one item per row in `item`, as DynamoDB's export to S3 writes it;
-- `census export` writes the same lines locally). Every household on the register, with
-- its latest response's channel and size (NULL without a response). `regency` comes last:
-- it is the partition column.
WITH meta AS (
    SELECT
        substr(item.pk.s, 4) AS kk,
        item.sls_code.s AS sls_code,
        item.status.s AS status,
        CAST(item.version.n AS INTEGER) AS version,
        CAST(item.member_count.n AS INTEGER) AS size,
        item.import_batch.s IS NULL AS enrolled_in_field
    FROM dynamodb_export
    WHERE export_id = '$export_id' AND item.sk.s = 'META' AND starts_with(item.pk.s, 'HH#')
),
versions AS (
    SELECT item.pk.s AS pk, item.sk.s AS sk, item.channel.s AS channel, item.submitted_at.s AS submitted_at
    FROM dynamodb_export
    WHERE export_id = '$export_id' AND starts_with(item.pk.s, 'HH#') AND starts_with(item.sk.s, 'V#')
)
SELECT
    m.kk,
    substr(m.sls_code, 1, 2) AS province_code,
    substr(m.sls_code, 1, 4) AS regency_code,
    substr(m.sls_code, 1, 7) AS district_code,
    substr(m.sls_code, 1, 10) AS village_code,
    m.sls_code,
    m.status,
    v.channel,
    m.version,
    CASE WHEN m.version > 0 THEN m.size END AS size,
    v.submitted_at,
    m.enrolled_in_field,
    substr(m.sls_code, 1, 4) AS regency
FROM meta AS m
LEFT JOIN versions AS v ON v.pk = 'HH#' || m.kk AND v.sk = 'V#' || lpad(CAST(m.version AS VARCHAR), 10, '0')
