-- The `person` table of the Parquet layout: one row per member of each household's latest
-- response, from the table's export in DynamoDB JSON (see household.sql). Age is in
-- completed years at the census reference date ($reference_date), NULL for anyone born
-- after it. No names: the tables and checks need none. `regency` (the partition) last.
WITH meta AS (
    SELECT
        item.pk.s AS pk,
        item.sls_code.s AS sls_code,
        item.status.s AS status,
        CAST(item.version.n AS INTEGER) AS version
    FROM dynamodb_export
    WHERE
        export_id = '$export_id'
        AND item.sk.s = 'META'
        AND starts_with(item.pk.s, 'HH#')
        AND CAST(item.version.n AS INTEGER) > 0
),
latest AS (
    SELECT m.pk, m.sls_code, m.status, m.version, v.item.channel.s AS channel, v.item.submitted_at.s AS submitted_at,
        v.item.members.l AS members
    FROM meta AS m
    JOIN dynamodb_export AS v
        ON v.item.pk.s = m.pk AND v.item.sk.s = 'V#' || lpad(CAST(m.version AS VARCHAR), 10, '0')
    WHERE v.export_id = '$export_id'
),
members AS (
    -- A member is one "|"-joined string of its answers (shared/store/schema.py MEMBER_ROW,
    -- by position), or, as stored before, a map: both are read.
    SELECT
        l.*,
        t.member.m AS member,
        t.member.s AS packed,
        CAST(COALESCE(t.member.m.birth_date.s, split_part(t.member.s, '|', 4)) AS DATE) AS birth_date,
        t.member_position
    FROM latest AS l
    CROSS JOIN UNNEST(l.members) WITH ORDINALITY AS t(member, member_position)
)
SELECT
    substr(pk, 4) AS kk,
    CAST(member_position - 1 AS INTEGER) AS member_index,
    COALESCE(member.nik.s, split_part(packed, '|', 1)) AS nik,
    substr(sls_code, 1, 2) AS province_code,
    substr(sls_code, 1, 4) AS regency_code,
    substr(sls_code, 1, 7) AS district_code,
    substr(sls_code, 1, 10) AS village_code,
    sls_code,
    COALESCE(member.sex.s, split_part(packed, '|', 3)) AS sex,
    birth_date,
    CAST(
        CASE
            WHEN birth_date > DATE '$reference_date' THEN NULL
            ELSE year(DATE '$reference_date') - year(birth_date) - CASE
                WHEN month(birth_date) * 100 + day(birth_date)
                    > month(DATE '$reference_date') * 100 + day(DATE '$reference_date') THEN 1
                ELSE 0
            END
        END AS INTEGER
    ) AS age,
    COALESCE(member.relationship.s, split_part(packed, '|', 2)) AS relationship,
    COALESCE(member.marital_status.s, split_part(packed, '|', 5)) AS marital_status,
    COALESCE(member.religion.s, split_part(packed, '|', 6)) AS religion,
    COALESCE(member.education.s, split_part(packed, '|', 7)) AS education,
    COALESCE(member.citizenship.s, split_part(packed, '|', 8)) AS citizenship,
    COALESCE(member.lives_at_kk_address.bool, split_part(packed, '|', 9) = '1') AS lives_at_kk_address,
    COALESCE(member.current_area_code.s, nullif(split_part(packed, '|', 10), '')) AS current_area_code,
    COALESCE(member.added_because.s, nullif(split_part(packed, '|', 11), '')) AS added_because,
    channel,
    status,
    version,
    submitted_at,
    substr(sls_code, 1, 4) AS regency
FROM members
