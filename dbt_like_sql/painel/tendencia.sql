-- The last 30 published dates up to $fim, from the one-row summaries (line chart).
select
    data_referencia,
    tipo_1 + tipo_2 + tipo_3_valor + tipo_3_data + tipo_3_fornecedor + tipo_3_ativo + tipo_3_nome as divergencias,
    taxa_divergencia,
    linhas_csv,
    linhas_quarentena
from resumo_conciliacao
where data_referencia <= $fim
order by data_referencia desc
limit 30
