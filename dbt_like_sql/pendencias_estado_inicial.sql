-- The state before the first date: no break at all, with the columns and types of `pendencias`.
select
    cast(null as varchar) as pendencia_id,
    cast(null as varchar) as ordem_id,
    cast(null as varchar) as tipo_divergencia,
    cast(null as varchar) as fornecedor_id,
    cast(null as varchar) as severidade,
    cast(null as decimal(18, 2)) as valor_csv,
    cast(null as decimal(18, 2)) as valor_base,
    cast(null as decimal(19, 2)) as valor_diferenca,
    cast(null as varchar) as detalhes,
    cast(null as varchar) as situacao,
    cast(null as date) as aberta_em,
    cast(null as date) as vista_em,
    cast(null as date) as resolvida_em,
    cast(null as integer) as dias_em_aberto,
    cast(null as varchar) as faixa_idade,
    cast(null as varchar) as job_id,
    cast(null as timestamptz) as "timestamp"
where false
