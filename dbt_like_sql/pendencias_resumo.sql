-- Grain: one row per date: the breaks by situacao and age band, the amount at stake and the facts the
-- chain check compares (the content's digest is pendencias_conteudo.sql, computed over the written file).
-- Inputs: pendencias (D's, just computed), pendencias_anteriores (P), divergencias (D's).
with

abertas as (select * from pendencias where situacao in ('NOVA', 'RECORRENTE', 'EM_ABERTO')),

abertas_antes as (
    select pendencia_id from pendencias_anteriores where situacao in ('NOVA', 'RECORRENTE', 'EM_ABERTO')
),

por_pendencia as (select pendencia_id, count(*) as vezes from pendencias group by pendencia_id),

-- Every open break of P is on D exactly once (carried, recurring or resolved).
antes_fora_uma_vez as (
    select count(*) as n from abertas_antes
    left join por_pendencia using (pendencia_id)
    where coalesce(por_pendencia.vezes, 0) <> 1
),

-- Every divergence of D is a NOVA or RECORRENTE break exactly once.
divergencias_como_abertura as (
    select
        sha256(ordem_id || '|' || tipo_divergencia) as pendencia_id
    from divergencias
),

vistas_hoje as (
    select pendencia_id, count(*) as vezes from pendencias
    where situacao in ('NOVA', 'RECORRENTE') group by pendencia_id
),

divergencias_fora_uma_vez as (
    select count(*) as n from divergencias_como_abertura
    left join vistas_hoje using (pendencia_id)
    where coalesce(vistas_hoje.vezes, 0) <> 1
)

select
    (select count(*) from pendencias) as pendencias,
    (select count(*) from pendencias where situacao = 'NOVA') as novas,
    (select count(*) from pendencias where situacao = 'RECORRENTE') as recorrentes,
    (select count(*) from pendencias where situacao = 'EM_ABERTO') as em_aberto,
    (select count(*) from pendencias where situacao = 'RESOLVIDA') as resolvidas,
    (select count(*) from abertas) as abertas,
    (select count(*) from abertas where faixa_idade = '0-1') as faixa_0_1,
    (select count(*) from abertas where faixa_idade = '2-7') as faixa_2_7,
    (select count(*) from abertas where faixa_idade = '8-30') as faixa_8_30,
    (select count(*) from abertas where faixa_idade = '>30') as faixa_mais_30,
    (select count(*) from abertas where dias_em_aberto > 7) as abertas_mais_7_dias,
    -- The amount at stake: what the open breaks leave unexplained (macro valor_em_jogo).
    (select cast(coalesce(sum(valor_em_jogo(tipo_divergencia, valor_csv, valor_base, valor_diferenca)), 0)
        as decimal(38, 2)) from abertas) as valor_em_aberto,
    (select count(*) from abertas_antes) as abertas_antes,
    (select n from antes_fora_uma_vez) as antes_sem_uma_linha,
    (select count(*) from divergencias) as divergencias,
    (select n from divergencias_fora_uma_vez) as divergencias_sem_uma_abertura,
    (select count(*) from por_pendencia where vezes > 1) as pendencia_id_repetido
