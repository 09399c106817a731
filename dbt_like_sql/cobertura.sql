-- Grain: one row, the file's coverage (SPEC 4): [min(data), max(data)] over its validated rows.
-- Input: validadas (the whole day's, never a part of it).
select min(data) as inicio, max(data) as fim from validadas
