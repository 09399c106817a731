-- Grain: one row for the day: how every physical line of the files was accounted for.
-- linhas_csv = linhas_validas + linhas_quarentena (SPEC 3); headers and blank lines are apart.
-- One scan of the physical lines and one of the classified lines.
with

fisicas as (
    select
        count(*) as linhas_fisicas,
        count(*) filter (where linha = 1) as linhas_cabecalho,
        count(*) filter (where linha > 1 and regexp_full_match(conteudo, E'[ \t]*')) as linhas_em_branco
    from linhas
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
