-- Grain: one row per internal transaction in scope for the date, as stored (valor as exact text).
-- Scope (SPEC 4): rows dated inside the file's coverage, plus any row whose ordem_id is in the
-- file, whatever its date, so that TIPO_1 means "absent from the whole base".
-- Inputs: transacoes_internas (the internal table), ordens_do_arquivo (ordem_id of validated rows).
-- Parameters: $cobertura_inicio, $cobertura_fim.
with

internas as (select * from transacoes_internas),

ordens as (select distinct ordem_id from ordens_do_arquivo)

select
    cast(fornecedor_id as varchar) as fornecedor_id,
    cast(ordem_id as varchar) as ordem_id,
    cast(nome as varchar) as nome,
    cast(ativo_id as varchar) as ativo_id,
    cast(data as date) as data,
    cast(valor as varchar) as valor
from internas
where cast(data as date) between cast($cobertura_inicio as date) and cast($cobertura_fim as date)
   or texto_normalizado(cast(ordem_id as varchar)) in (select ordem_id from ordens)
