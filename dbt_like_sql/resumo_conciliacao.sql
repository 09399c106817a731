-- Grain: one row per reference date (SPEC 5.2): line accounting, counts per divergence type,
-- the divergence rate, coverage, SLA and the balance control that must close to 0.00.
-- Inputs: estatisticas_linhas (one row from validation), validadas, base_interna, divergencias.
-- Parameters: $job_id, $started_at, $finished_at, $arquivo_chegou_em, $sla_minutos.
with

linhas as (select * from estatisticas_linhas),

csv as (select * from validadas),

cobertura as (select min(data) as inicio, max(data) as fim from csv),

base_escopo as (
    select base.*
    from base_interna as base, cobertura
    where base.data between cobertura.inicio and cobertura.fim
       or base.ordem_id in (select ordem_id from csv)
),

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
        (select count(*) from base_escopo) as linhas_base_escopo,
        (select count(*) from csv inner join base_escopo using (ordem_id)) as casadas,
        (select count(*) from (select ordem_id from csv union select ordem_id from base_escopo)) as ordens_em_escopo,
        (select coalesce(sum(valor), 0) from csv) as total_csv,
        (select coalesce(sum(valor), 0) from base_escopo) as total_base_escopo
),

resumo as (
    select
        cast($job_id as varchar) as job_id,
        cast($started_at as timestamptz) as started_at,
        cast($finished_at as timestamptz) as finished_at,
        linhas.arquivos,
        linhas.linhas_csv,
        linhas.linhas_validas,
        linhas.linhas_quarentena,
        linhas.linhas_em_branco,
        lados.linhas_base_escopo,
        lados.casadas - contagens.ordens_casadas_divergentes as conciliadas_sem_divergencia,
        contagens.tipo_1,
        contagens.tipo_2,
        contagens.tipo_3_valor,
        contagens.tipo_3_data,
        contagens.tipo_3_fornecedor,
        contagens.tipo_3_ativo,
        contagens.tipo_3_nome,
        case when lados.ordens_em_escopo = 0 then 0.0
            else contagens.ordens_divergentes / lados.ordens_em_escopo end as taxa_divergencia,
        cobertura.inicio as cobertura_inicio,
        cobertura.fim as cobertura_fim,
        cast($arquivo_chegou_em as timestamptz) as arquivo_chegou_em,
        cast($arquivo_chegou_em as timestamptz) + to_minutes(cast($sla_minutos as integer)) as sla_prazo,
        cast($finished_at as timestamptz)
            <= cast($arquivo_chegou_em as timestamptz) + to_minutes(cast($sla_minutos as integer)) as sla_cumprido,
        cast(lados.total_csv as decimal(38, 2)) as total_csv,
        cast(lados.total_base_escopo as decimal(38, 2)) as total_base_escopo,
        cast(contagens.soma_tipo_1 - contagens.soma_tipo_2 + contagens.soma_tipo_3_valor as decimal(38, 2))
            as total_explicado,
        cast(lados.total_csv - lados.total_base_escopo
            - (contagens.soma_tipo_1 - contagens.soma_tipo_2 + contagens.soma_tipo_3_valor) as decimal(38, 2))
            as diferenca_nao_explicada,
        lados.casadas
    from linhas, contagens, lados, cobertura
)

select * from resumo
