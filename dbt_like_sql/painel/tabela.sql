-- The divergence table in a stable order: newest date, most severe, then the key. Paged by the caller.
select data_referencia, fornecedor_id, ordem_id, nome, tipo_divergencia, detalhes, severidade, data,
    valor_csv, valor_base, valor_diferenca
from filtradas
order by data_referencia desc,
    case severidade when 'HIGH' then 1 when 'MEDIUM' then 2 when 'LOW' then 3 else 4 end,
    ordem_id, tipo_divergencia
