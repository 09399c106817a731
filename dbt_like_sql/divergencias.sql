-- Grain: one row per divergence (SPEC 4 and 5.1). TIPO_1: only in the file; TIPO_2: only in
-- the internal base, inside the file's coverage; TIPO_3_<CAMPO>: on both sides, one row per
-- differing field. Inputs: validadas, base_interna (already normalised), cobertura (one row: the
-- file's coverage, model cobertura.sql, computed over all of the day's validated rows).
-- Parameters: $severidade_high, $severidade_medium, $job_id, $calculado_em.
-- One pass over the join: each ordem_id gets its list of divergence types (empty for a perfect
-- match), and only the divergent ones are expanded, one row per type.
with

csv as (select * from validadas),

base as (select * from base_interna),

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

-- Cheap test first: a perfect match (about 90% of a normal day) goes no further.
com_diferenca as (
    select *
    from pares
    where ordem_id_base is null
       or ordem_id is null
       or valor is distinct from valor_base
       or data is distinct from data_base
       or fornecedor_id is distinct from fornecedor_id_base
       or ativo_id is distinct from ativo_id_base
       or nome is distinct from nome_base
),

tipos_por_ordem as (
    select
        com_diferenca.*,
        case
            when ordem_id_base is null then ['TIPO_1']
            when ordem_id is null and data_base between cobertura.inicio and cobertura.fim then ['TIPO_2']
            when ordem_id is null then []
            else list_filter([
                case when valor is distinct from valor_base then 'TIPO_3_VALOR' end,
                case when data is distinct from data_base then 'TIPO_3_DATA' end,
                case when fornecedor_id is distinct from fornecedor_id_base then 'TIPO_3_FORNECEDOR' end,
                case when ativo_id is distinct from ativo_id_base then 'TIPO_3_ATIVO' end,
                case when nome is distinct from nome_base then 'TIPO_3_NOME' end
            ], lambda tipo: tipo is not null)
        end as tipos
    from com_diferenca, cobertura
),

uma_linha_por_tipo as (
    select * exclude (tipos), unnest(tipos) as tipo_divergencia
    from tipos_por_ordem
    where array_length(tipos) > 0
),

divergencias as (
    select
        -- The CSV row describes the divergence, except for TIPO_2 where only the base has it.
        case when tipo_divergencia = 'TIPO_2' then fornecedor_id_base else fornecedor_id end as fornecedor_id,
        case when tipo_divergencia = 'TIPO_2' then ordem_id_base else ordem_id end as ordem_id,
        case when tipo_divergencia = 'TIPO_2' then nome_base else nome end as nome,
        case when tipo_divergencia = 'TIPO_2' then ativo_id_base else ativo_id end as ativo_id,
        case when tipo_divergencia = 'TIPO_2' then data_base else data end as data,
        data_base,
        valor as valor_csv,
        valor_base,
        -- decimal(19,2) (SPEC 5.1): two decimal(18,2) values can differ by up to 2 * 10^16.
        cast(valor - valor_base as decimal(19, 2)) as valor_diferenca,
        tipo_divergencia,
        case tipo_divergencia
            when 'TIPO_1' then 'campo=ordem_id; ordem_id=' || ordem_id || '; presente_em=csv; ausente_em=base'
            when 'TIPO_2' then 'campo=ordem_id; ordem_id=' || ordem_id_base || '; presente_em=base; ausente_em=csv'
            when 'TIPO_3_VALOR' then 'campo=valor; valor_csv=' || coalesce(valor_texto(valor), '')
                || '; valor_base=' || coalesce(valor_texto(valor_base), '')
                || '; diferenca=' || coalesce(diferenca_texto(valor - valor_base), '')
            when 'TIPO_3_DATA' then 'campo=data; data_csv=' || strftime(data, '%Y-%m-%d')
                || '; data_base=' || coalesce(strftime(data_base, '%Y-%m-%d'), '')
            when 'TIPO_3_FORNECEDOR' then 'campo=fornecedor_id; fornecedor_id_csv=' || fornecedor_id
                || '; fornecedor_id_base=' || coalesce(fornecedor_id_base, '')
            when 'TIPO_3_ATIVO' then 'campo=ativo_id; ativo_id_csv=' || ativo_id
                || '; ativo_id_base=' || coalesce(ativo_id_base, '')
            when 'TIPO_3_NOME' then 'campo=nome; nome_csv=' || nome || '; nome_base=' || coalesce(nome_base, '')
        end as detalhes,
        case
            when tipo_divergencia in ('TIPO_1', 'TIPO_2') then 'HIGH'
            when tipo_divergencia = 'TIPO_3_VALOR'
                and abs(valor - valor_base) >= cast($severidade_high as decimal(19, 2)) then 'HIGH'
            when tipo_divergencia = 'TIPO_3_VALOR'
                and abs(valor - valor_base) >= cast($severidade_medium as decimal(19, 2)) then 'MEDIUM'
            when tipo_divergencia in ('TIPO_3_VALOR', 'TIPO_3_NOME') then 'LOW'
            else 'MEDIUM'
        end as severidade,
        -- hash_linha: SHA-256 of the source row's canonical form (SPEC 5.1); the CSV row except for TIPO_2.
        case when tipo_divergencia = 'TIPO_2'
            then sha256(concat_ws('|', fornecedor_id_base, ordem_id_base, nome_base, ativo_id_base,
                strftime(data_base, '%Y-%m-%d'), valor_texto(valor_base)))
            else sha256(concat_ws('|', fornecedor_id, ordem_id, nome, ativo_id,
                strftime(data, '%Y-%m-%d'), valor_texto(valor)))
        end as hash_linha,
        cast($calculado_em as timestamptz) as "timestamp",
        cast($job_id as varchar) as job_id
    from uma_linha_por_tipo
)

-- No final sort here: the runner runs this model per hash bucket of ordem_id and sorts each bucket's
-- rows (reconciliation_assets/engine/buckets.py), so the published order never needs a global sort.
select * from divergencias
