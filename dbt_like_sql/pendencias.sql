-- Grain: one row per break (pendência) open on D or resolved on D (SPEC 5.4). A break is one
-- (ordem_id, tipo_divergencia) pair; it lives across dates with an identity, an age and a fate.
-- Inputs: pendencias_anteriores (P: the breaks of the latest earlier date that has them; empty on
-- the first date), divergencias (D's), validadas and base_interna (D's scope: the ordem_ids of the
-- file's validated rows and of the internal rows in scope). Parameters: $data_referencia, $job_id,
-- $calculado_em.
--   in D's divergencias | in P        | ordem_id in D's scope | situacao on D
--   yes                 | open        | -                     | RECORRENTE (aberta_em kept)
--   yes                 | absent or RESOLVIDA | -             | NOVA (opened on D)
--   no                  | open        | yes                   | RESOLVIDA (resolvida_em = D)
--   no                  | open        | no                    | EM_ABERTO (not compared again)
--   no                  | RESOLVIDA   | -                     | not published
with

hoje as (
    select
        ordem_id, tipo_divergencia, fornecedor_id, severidade,
        valor_csv, valor_base, valor_diferenca, detalhes
    from divergencias
),

-- Only open breaks are carried: a resolved one that diverges again is a new opening.
abertas_antes as (
    select * from pendencias_anteriores where situacao in ('NOVA', 'RECORRENTE', 'EM_ABERTO')
),

-- D's scope is asked only about breaks open before that D does not show again, so it is looked up
-- for those ordem_ids alone (a semi join on P's, small), not built for every ordem_id of the day.
escopo as (
    select ordem_id from validadas where ordem_id in (select ordem_id from abertas_antes)
    union
    select ordem_id from base_interna where ordem_id in (select ordem_id from abertas_antes)
),

cruzadas as (
    select
        coalesce(hoje.ordem_id, antes.ordem_id) as ordem_id,
        coalesce(hoje.tipo_divergencia, antes.tipo_divergencia) as tipo_divergencia,
        hoje.ordem_id is not null as diverge_hoje,
        antes.ordem_id is not null as aberta_antes,
        hoje.fornecedor_id as fornecedor_id_hoje, hoje.severidade as severidade_hoje,
        hoje.valor_csv as valor_csv_hoje, hoje.valor_base as valor_base_hoje,
        hoje.valor_diferenca as valor_diferenca_hoje, hoje.detalhes as detalhes_hoje,
        antes.fornecedor_id as fornecedor_id_antes, antes.severidade as severidade_antes,
        antes.valor_csv as valor_csv_antes, antes.valor_base as valor_base_antes,
        antes.valor_diferenca as valor_diferenca_antes, antes.detalhes as detalhes_antes,
        antes.aberta_em as aberta_em_antes, antes.vista_em as vista_em_antes
    from hoje
    full outer join abertas_antes as antes
        on hoje.ordem_id = antes.ordem_id and hoje.tipo_divergencia = antes.tipo_divergencia
),

classificadas as (
    select
        cruzadas.*,
        case
            when diverge_hoje and aberta_antes then 'RECORRENTE'
            when diverge_hoje then 'NOVA'
            when cruzadas.ordem_id in (select ordem_id from escopo) then 'RESOLVIDA'
            else 'EM_ABERTO'
        end as situacao
    from cruzadas
),

pendencias as (
    select
        sha256(ordem_id || '|' || tipo_divergencia) as pendencia_id,
        ordem_id,
        tipo_divergencia,
        -- The six facts as on the latest date the break was in divergencias.
        case when diverge_hoje then fornecedor_id_hoje else fornecedor_id_antes end as fornecedor_id,
        case when diverge_hoje then severidade_hoje else severidade_antes end as severidade,
        cast(case when diverge_hoje then valor_csv_hoje else valor_csv_antes end as decimal(18, 2)) as valor_csv,
        cast(case when diverge_hoje then valor_base_hoje else valor_base_antes end as decimal(18, 2)) as valor_base,
        cast(case when diverge_hoje then valor_diferenca_hoje else valor_diferenca_antes end as decimal(19, 2))
            as valor_diferenca,
        case when diverge_hoje then detalhes_hoje else detalhes_antes end as detalhes,
        situacao,
        case when situacao = 'NOVA' then cast($data_referencia as date) else aberta_em_antes end as aberta_em,
        case when diverge_hoje then cast($data_referencia as date) else vista_em_antes end as vista_em,
        case when situacao = 'RESOLVIDA' then cast($data_referencia as date) end as resolvida_em
    from classificadas
)

select
    pendencia_id, ordem_id, tipo_divergencia, fornecedor_id, severidade,
    valor_csv, valor_base, valor_diferenca, detalhes, situacao,
    aberta_em, vista_em, resolvida_em,
    cast(cast($data_referencia as date) - aberta_em as integer) as dias_em_aberto,
    faixa_idade(cast(cast($data_referencia as date) - aberta_em as integer)) as faixa_idade,
    cast($job_id as varchar) as job_id,
    cast($calculado_em as timestamptz) as "timestamp"
from pendencias
