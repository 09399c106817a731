-- Grain: one row of additive facts over the rows given (SPEC 5.2): the counts and sums the summary
-- is built from. Every column is a count or a sum keyed by ordem_id, so the facts of disjoint sets of
-- ordem_ids add up to those of their union: resumo_conciliacao.sql sums the rows it is given.
-- Inputs: validadas, base_interna, divergencias (the same ordem_ids on all three). The internal side
-- is the snapshot as taken: its scope (SPEC 4) is defined once, in base_bruta.sql.
-- validadas and base_interna are named in each subquery (no CTE over them): DuckDB materialises a CTE
-- read more than once, which here would copy both sides' rows to memory (and spill) to count them.
with

div as (select * from divergencias),

contagens as (
    select
        count(*) filter (where tipo_divergencia = 'TIPO_1') as tipo_1,
        count(*) filter (where tipo_divergencia = 'TIPO_2') as tipo_2,
        count(*) filter (where tipo_divergencia = 'TIPO_3_VALOR') as tipo_3_valor,
        count(*) filter (where tipo_divergencia = 'TIPO_3_DATA') as tipo_3_data,
        count(*) filter (where tipo_divergencia = 'TIPO_3_FORNECEDOR') as tipo_3_fornecedor,
        count(*) filter (where tipo_divergencia = 'TIPO_3_ATIVO') as tipo_3_ativo,
        count(*) filter (where tipo_divergencia = 'TIPO_3_NOME') as tipo_3_nome,
        count(distinct ordem_id) as ordens_divergentes,
        count(distinct ordem_id) filter (where tipo_divergencia like 'TIPO_3_%') as ordens_casadas_divergentes,
        coalesce(sum(valor_csv) filter (where tipo_divergencia = 'TIPO_1'), 0) as soma_tipo_1,
        coalesce(sum(valor_base) filter (where tipo_divergencia = 'TIPO_2'), 0) as soma_tipo_2,
        coalesce(sum(valor_diferenca) filter (where tipo_divergencia = 'TIPO_3_VALOR'), 0) as soma_tipo_3_valor
    from div
),

lados as (
    select
        (select count(*) from base_interna) as linhas_base_escopo,
        (select count(*) from validadas inner join base_interna using (ordem_id)) as casadas,
        (select count(*) from (select ordem_id from validadas union select ordem_id from base_interna)) as ordens_em_escopo,
        (select coalesce(sum(valor), 0) from validadas) as total_csv,
        (select coalesce(sum(valor), 0) from base_interna) as total_base_escopo
)

select
    contagens.tipo_1, contagens.tipo_2, contagens.tipo_3_valor, contagens.tipo_3_data,
    contagens.tipo_3_fornecedor, contagens.tipo_3_ativo, contagens.tipo_3_nome,
    contagens.ordens_divergentes, contagens.ordens_casadas_divergentes,
    cast(contagens.soma_tipo_1 as decimal(38, 2)) as soma_tipo_1,
    cast(contagens.soma_tipo_2 as decimal(38, 2)) as soma_tipo_2,
    cast(contagens.soma_tipo_3_valor as decimal(38, 2)) as soma_tipo_3_valor,
    lados.linhas_base_escopo, lados.casadas, lados.ordens_em_escopo,
    cast(lados.total_csv as decimal(38, 2)) as total_csv,
    cast(lados.total_base_escopo as decimal(38, 2)) as total_base_escopo
from contagens, lados
