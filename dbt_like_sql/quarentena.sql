-- Grain: one row per rejected line, with what is needed to fix and re-send it (SPEC 3 and 5.3).
with classificadas as (select * from linhas_classificadas)
select
    arquivo,
    linha,
    conteudo,
    motivo,
    detalhe
from classificadas
where motivo is not null
order by arquivo_idx, linha
