-- Divergences by severity (bars), in the order the business reads them.
select severidade, count(*) as divergencias
from filtradas
group by severidade
order by case severidade when 'HIGH' then 1 when 'MEDIUM' then 2 when 'LOW' then 3 else 4 end
