-- Grain: one row per divergence (SPEC 4 and 5.1). TIPO_1: only in the file; TIPO_2: only in
-- the internal base, inside the file's coverage; TIPO_3_<CAMPO>: on both sides, one row per
-- differing field. Inputs: validadas, base_interna (already normalised).
-- Parameters: $severidade_high, $severidade_medium, $job_id, $calculado_em.
with

csv as (select * from validadas),

base as (select * from base_interna),

cobertura as (
    select min(data) as inicio, max(data) as fim from csv
),

pares as (
    select
        csv.fornecedor_id, csv.ordem_id, csv.nome, csv.ativo_id, csv.data, csv.valor,
        base.fornecedor_id as fornecedor_id_base,
        base.ordem_id as ordem_id_base,
        base.nome as nome_base,
        base.ativo_id as ativo_id_base,
        base.data as data_base,
        base.valor as valor_base
    from csv
    full outer join base on csv.ordem_id = base.ordem_id
),

somente_csv as (
    select
        fornecedor_id, ordem_id, nome, ativo_id, data,
        cast(null as date) as data_base,
        valor as valor_csv,
        cast(null as decimal(18, 2)) as valor_base,
        cast(null as decimal(18, 2)) as valor_diferenca,
        'TIPO_1' as tipo_divergencia,
        'campo=ordem_id; ordem_id=' || ordem_id || '; presente_em=csv; ausente_em=base' as detalhes,
        'HIGH' as severidade,
        'csv' as origem_hash
    from pares
    where ordem_id_base is null
),

somente_base as (
    select
        fornecedor_id_base as fornecedor_id,
        ordem_id_base as ordem_id,
        nome_base as nome,
        ativo_id_base as ativo_id,
        data_base as data,
        data_base,
        cast(null as decimal(18, 2)) as valor_csv,
        valor_base,
        cast(null as decimal(18, 2)) as valor_diferenca,
        'TIPO_2' as tipo_divergencia,
        'campo=ordem_id; ordem_id=' || ordem_id_base || '; presente_em=base; ausente_em=csv' as detalhes,
        'HIGH' as severidade,
        'base' as origem_hash
    from pares, cobertura
    where pares.ordem_id is null
      and pares.data_base between cobertura.inicio and cobertura.fim
),

casados as (
    select * from pares where ordem_id is not null and ordem_id_base is not null
),

-- One candidate row per compared field; only those that differ survive.
campos_comparados as (
    select *, 'valor' as campo, 'TIPO_3_VALOR' as tipo,
        valor is distinct from valor_base as difere,
        'valor_csv=' || coalesce(valor_texto(valor), '') || '; valor_base=' || coalesce(valor_texto(valor_base), '')
            || '; diferenca=' || coalesce(valor_texto(valor - valor_base), '') as comparacao
    from casados
    union all
    select *, 'data', 'TIPO_3_DATA',
        data is distinct from data_base,
        'data_csv=' || strftime(data, '%Y-%m-%d') || '; data_base=' || coalesce(strftime(data_base, '%Y-%m-%d'), '')
    from casados
    union all
    select *, 'fornecedor_id', 'TIPO_3_FORNECEDOR',
        fornecedor_id is distinct from fornecedor_id_base,
        'fornecedor_id_csv=' || fornecedor_id || '; fornecedor_id_base=' || coalesce(fornecedor_id_base, '')
    from casados
    union all
    select *, 'ativo_id', 'TIPO_3_ATIVO',
        ativo_id is distinct from ativo_id_base,
        'ativo_id_csv=' || ativo_id || '; ativo_id_base=' || coalesce(ativo_id_base, '')
    from casados
    union all
    select *, 'nome', 'TIPO_3_NOME',
        nome is distinct from nome_base,
        'nome_csv=' || nome || '; nome_base=' || coalesce(nome_base, '')
    from casados
),

campos_divergentes as (
    select
        fornecedor_id, ordem_id, nome, ativo_id, data, data_base,
        valor as valor_csv,
        valor_base,
        cast(valor - valor_base as decimal(18, 2)) as valor_diferenca,
        tipo as tipo_divergencia,
        'campo=' || campo || '; ' || comparacao as detalhes,
        case
            when tipo = 'TIPO_3_VALOR' and abs(valor - valor_base) >= cast($severidade_high as decimal(18, 2)) then 'HIGH'
            when tipo = 'TIPO_3_VALOR' and abs(valor - valor_base) >= cast($severidade_medium as decimal(18, 2)) then 'MEDIUM'
            when tipo = 'TIPO_3_VALOR' then 'LOW'
            when tipo = 'TIPO_3_NOME' then 'LOW'
            else 'MEDIUM'
        end as severidade,
        'csv' as origem_hash
    from campos_comparados
    where difere
),

todas as (
    select * from somente_csv
    union all
    select * from somente_base
    union all
    select * from campos_divergentes
),

-- hash_linha: SHA-256 of the source row's canonical form (SPEC 5.1); the CSV row except for TIPO_2.
com_hash as (
    select
        fornecedor_id, ordem_id, nome, ativo_id, data, data_base,
        valor_csv, valor_base, valor_diferenca,
        tipo_divergencia, detalhes, severidade,
        sha256(concat_ws('|',
            fornecedor_id, ordem_id, nome, ativo_id, strftime(data, '%Y-%m-%d'),
            valor_texto(case when origem_hash = 'base' then valor_base else valor_csv end)
        )) as hash_linha,
        cast($calculado_em as timestamptz) as "timestamp",
        cast($job_id as varchar) as job_id
    from todas
)

select * from com_hash
order by tipo_divergencia, severidade, fornecedor_id, ordem_id
