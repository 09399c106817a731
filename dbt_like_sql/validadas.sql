-- Grain: one row per valid transaction of the day (unique ordem_id), normalised and typed.
with classificadas as (select * from linhas_classificadas)
select
    fornecedor_id,
    ordem_id,
    nome,
    ativo_id,
    data,
    valor,
    arquivo,
    linha
from classificadas
where motivo is null
