-- Grain: one row per internal transaction in scope for the date, as stored (valor as exact text).
-- Scope (SPEC 4): rows dated inside the file's coverage, plus any row whose ordem_id is in the
-- file, whatever its date, so that TIPO_1 means "absent from the whole base".
-- Inputs: transacoes_internas (the internal table), ordens_do_arquivo (ordem_id of validated rows,
-- unique: repeated ones are quarantined). Parameters: $cobertura_inicio, $cobertura_fim.
-- Two disjoint parts: rows inside the coverage (a filter, streamed) and rows outside it that the
-- file names (an inner join, so DuckDB builds its hash table on the smaller side and can spill).
-- `internas` is read by both parts: NOT MATERIALIZED makes each part scan the table itself (a
-- filtered scan) instead of DuckDB storing every internal row first (at 10M rows, ~1 GB spilled).
-- This model runs on DuckDB only (both internal sources), never through the Spark translation.
with

internas as not materialized (
    select
        cast(fornecedor_id as varchar) as fornecedor_id,
        cast(ordem_id as varchar) as ordem_id,
        cast(nome as varchar) as nome,
        cast(ativo_id as varchar) as ativo_id,
        cast(data as date) as data,
        cast(valor as varchar) as valor,
        coalesce(cast(data as date) between cast($cobertura_inicio as date) and cast($cobertura_fim as date), false)
            as na_cobertura
    from transacoes_internas
),

ordens as (select ordem_id from ordens_do_arquivo),

na_cobertura as (
    select * exclude (na_cobertura) from internas where na_cobertura
),

fora_da_cobertura_no_arquivo as (
    select internas.* exclude (na_cobertura)
    from internas
    inner join ordens on texto_normalizado(internas.ordem_id) = ordens.ordem_id
    where not internas.na_cobertura
)

select * from na_cobertura
union all
select * from fora_da_cobertura_no_arquivo
