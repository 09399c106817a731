-- The ten suppliers with the most divergences (ties broken by supplier id, so the list is stable).
select fornecedor_id, count(*) as divergencias
from filtradas
group by fornecedor_id
order by divergencias desc, fornecedor_id
limit 10
