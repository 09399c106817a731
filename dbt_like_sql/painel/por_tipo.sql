-- Divergences by type (pie), largest first.
select tipo_divergencia, count(*) as divergencias
from filtradas
group by tipo_divergencia
order by divergencias desc, tipo_divergencia
