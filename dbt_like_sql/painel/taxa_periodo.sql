-- The published divergence rate over the period: each date's rate, averaged over its dates.
-- (The rate's denominator is per date and unfiltered, so supplier/type/severity filters do not apply.)
select count(*) as datas, avg(taxa_divergencia) as taxa_divergencia
from resumo_conciliacao
where data_referencia between $inicio and $fim
