-- Grain: one row per internal transaction in scope for the date, as stored (valor as exact text).
-- Scope (SPEC 4): rows dated inside the file's coverage, plus any row whose ordem_id is in the
-- file, whatever its date, so that TIPO_1 means "absent from the whole base".
-- Inputs: transacoes_internas (the internal table), ordens_do_arquivo (ordem_id of validated rows,
-- unique: repeated ones are quarantined). Parameters: $cobertura_inicio, $cobertura_fim.
-- A left join (not `in (subquery)`) so that DuckDB can spill it when both sides are large.
with

internas as (select * from transacoes_internas),

ordens as (select ordem_id, true as no_arquivo from ordens_do_arquivo)

select
    cast(internas.fornecedor_id as varchar) as fornecedor_id,
    cast(internas.ordem_id as varchar) as ordem_id,
    cast(internas.nome as varchar) as nome,
    cast(internas.ativo_id as varchar) as ativo_id,
    cast(internas.data as date) as data,
    cast(internas.valor as varchar) as valor
from internas
left join ordens on texto_normalizado(cast(internas.ordem_id as varchar)) = ordens.ordem_id
where cast(internas.data as date) between cast($cobertura_inicio as date) and cast($cobertura_fim as date)
   or ordens.no_arquivo
