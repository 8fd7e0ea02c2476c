-- Small-cell suppression, wrapped around every tabulation (the cells: a query returning
-- area_code, row_label, column_label, n) before it is published.
-- The rule, with the threshold T (shared.analytics.MIN_CELL, 5):
--   1. primary: a cell counting 1 to T - 1 (persons or households) is suppressed;
--   2. within an area's table: if exactly one cell is suppressed by rule 1, the smallest
--      other non-zero cell of that table is suppressed too, so the first cannot be found
--      by subtracting the others from a total;
--   3. across the child areas: if exactly one child area has a cell suppressed by rule 1
--      for a given row and column, the smallest other child cell of that row and column
--      is suppressed too, so it cannot be found from the parent area's cell.
-- Rules 2 and 3 run once each, not to a fixed point (docs/analytics.md says what that
-- leaves open). A suppressed cell is published as NULL with suppressed = true; zero
-- cells are absent (no row), never suppressed.
WITH cells AS (
$cells
),
marked AS (
    SELECT
        area_code,
        row_label,
        column_label,
        n,
        CASE WHEN n < $min_cell THEN 1 ELSE 0 END AS is_primary,
        CASE WHEN area_code = '$area' THEN 0 ELSE 1 END AS is_child
    FROM cells
),
ranked AS (
    SELECT
        area_code,
        row_label,
        column_label,
        n,
        is_primary,
        sum(is_primary) OVER (PARTITION BY area_code) AS primaries_in_table,
        row_number() OVER (
            PARTITION BY area_code, is_primary ORDER BY n, row_label, column_label
        ) AS rank_in_table,
        sum(is_primary) OVER (PARTITION BY is_child, row_label, column_label) AS primaries_across_children,
        row_number() OVER (
            PARTITION BY is_child, row_label, column_label, is_primary ORDER BY n, area_code
        ) AS rank_across_children,
        is_child
    FROM marked
),
decided AS (
    SELECT
        area_code,
        row_label,
        column_label,
        n,
        (
            is_primary = 1
            OR (is_primary = 0 AND primaries_in_table = 1 AND rank_in_table = 1)
            OR (is_child = 1 AND is_primary = 0 AND primaries_across_children = 1 AND rank_across_children = 1)
        ) AS suppressed
    FROM ranked
)
SELECT
    area_code,
    row_label,
    column_label,
    CASE WHEN suppressed THEN NULL ELSE n END AS n,
    suppressed
FROM decided
ORDER BY area_code, row_label, column_label
