-- Headline figures of the filtered divergences: total and count per type (one row).
select
    count(*) as total,
    count(*) filter (where tipo_divergencia = 'TIPO_1') as tipo_1,
    count(*) filter (where tipo_divergencia = 'TIPO_2') as tipo_2,
    count(*) filter (where tipo_divergencia like 'TIPO_3_%') as tipo_3,
    count(*) filter (where severidade = 'HIGH') as high
from filtradas
