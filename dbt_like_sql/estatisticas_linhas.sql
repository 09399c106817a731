-- Grain: one row for the day: how every physical line of the files was accounted for.
-- linhas_csv = linhas_validas + linhas_quarentena (SPEC 3); headers and blank lines are apart.
-- The physical lines are counted where they are split (one row per file in arquivos: its lines and
-- its blank data lines, spaces and tabs only), the data lines here: the two counts are independent,
-- so linhas_fisicas = linhas_cabecalho + linhas_em_branco + linhas_csv is a real check.
-- Inputs: arquivos, linhas_classificadas.
with

fisicas as (
    select
        cast(coalesce(sum(linhas_fisicas), 0) as bigint) as linhas_fisicas,
        count(*) filter (where linhas_fisicas > 0) as linhas_cabecalho,
        cast(coalesce(sum(linhas_em_branco), 0) as bigint) as linhas_em_branco
    from arquivos
),

classificadas as (
    select
        count(*) as linhas_csv,
        count(*) filter (where motivo is null) as linhas_validas,
        count(*) filter (where motivo is not null) as linhas_quarentena
    from linhas_classificadas
)

select
    (select count(*) from arquivos) as arquivos,
    fisicas.linhas_fisicas,
    fisicas.linhas_cabecalho,
    fisicas.linhas_em_branco,
    classificadas.linhas_csv,
    classificadas.linhas_validas,
    classificadas.linhas_quarentena
from fisicas, classificadas
