-- Grain: one row per non-blank data line of the day: either valid (motivo null) or exactly one
-- quarantine reason. Adds DUPLICATE_ORDEM_ID to linhas_avaliadas: among lines that pass every
-- other check, the first occurrence of an ordem_id is kept and later ones are quarantined.
-- Inputs: linhas_avaliadas, ordens_repetidas.
with

avaliadas as (select * from linhas_avaliadas),

repetidas as (select * from ordens_repetidas),

com_primeira as (
    select
        a.*,
        r.ordem_id is not null
            and (a.arquivo_idx, a.linha) <> (r.primeira.arquivo_idx, r.primeira.linha) as repetida,
        r.primeira
    from avaliadas as a
    left join repetidas as r on a.motivo_previo is null and a.ordem_id = r.ordem_id
),

classificadas as (
    select
        arquivo_idx,
        arquivo,
        linha,
        conteudo,
        fornecedor_id,
        ordem_id,
        nome,
        ativo_id,
        data,
        valor,
        coalesce(motivo_previo, case when repetida then 'DUPLICATE_ORDEM_ID' end) as motivo,
        case
            when motivo_previo is not null then detalhe_previo
            when repetida then 'ordem_id ' || ordem_id || ' repetido; mantida a primeira ocorrência em '
                || primeira.arquivo || ' linha ' || primeira.linha
        end as detalhe
    from com_primeira
)

select * from classificadas
