-- Grain: one row per ordem_id that appears more than once among otherwise valid lines, with
-- its first occurrence in file-name order, then line (SPEC 3, DUPLICATE_ORDEM_ID). Rare, so small.
-- Input: linhas_avaliadas.
with validas_ate_aqui as (
    select ordem_id, arquivo_idx, linha, arquivo
    from linhas_avaliadas
    where motivo_previo is null
)

select
    ordem_id,
    min({'arquivo_idx': arquivo_idx, 'linha': linha, 'arquivo': arquivo}) as primeira
from validas_ate_aqui
group by ordem_id
having count(*) > 1
