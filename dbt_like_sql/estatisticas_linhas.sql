-- Grain: one row for the day: how every physical line of the files was accounted for.
-- linhas_csv = linhas_validas + linhas_quarentena (SPEC 3); headers and blank lines are apart.
with

fisicas as (select * from linhas),

classificadas as (select * from linhas_classificadas)

select
    (select count(*) from arquivos) as arquivos,
    (select count(*) from fisicas) as linhas_fisicas,
    (select count(*) from fisicas where linha = 1) as linhas_cabecalho,
    (select count(*) from fisicas where linha > 1 and trim(conteudo, E' \t') = '') as linhas_em_branco,
    (select count(*) from classificadas) as linhas_csv,
    (select count(*) from classificadas where motivo is null) as linhas_validas,
    (select count(*) from classificadas where motivo is not null) as linhas_quarentena
