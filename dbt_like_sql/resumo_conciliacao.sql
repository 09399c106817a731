-- Grain: one row per reference date (SPEC 5.2): line accounting, counts per divergence type,
-- the divergence rate, coverage, SLA and the balance control that must close to 0.00.
-- Inputs: estatisticas_linhas (one row from validation), cobertura (one row, cobertura.sql),
-- lados_conciliacao (additive facts of lados_conciliacao.sql, one row per disjoint set of ordem_ids:
-- summed here). Parameters: $job_id, $started_at, $finished_at, $arquivo_chegou_em, $sla_prazo, $sla_cumprido
-- (the SLA verdict comes from reconciliation_assets/sla.py, the one definition the check and alerts share).
with

linhas as (select * from estatisticas_linhas),

fatos as (
    select
        cast(sum(tipo_1) as bigint) as tipo_1,
        cast(sum(tipo_2) as bigint) as tipo_2,
        cast(sum(tipo_3_valor) as bigint) as tipo_3_valor,
        cast(sum(tipo_3_data) as bigint) as tipo_3_data,
        cast(sum(tipo_3_fornecedor) as bigint) as tipo_3_fornecedor,
        cast(sum(tipo_3_ativo) as bigint) as tipo_3_ativo,
        cast(sum(tipo_3_nome) as bigint) as tipo_3_nome,
        cast(sum(ordens_divergentes) as bigint) as ordens_divergentes,
        cast(sum(ordens_casadas_divergentes) as bigint) as ordens_casadas_divergentes,
        sum(soma_tipo_1) as soma_tipo_1,
        sum(soma_tipo_2) as soma_tipo_2,
        sum(soma_tipo_3_valor) as soma_tipo_3_valor,
        cast(sum(linhas_base_escopo) as bigint) as linhas_base_escopo,
        cast(sum(casadas) as bigint) as casadas,
        cast(sum(ordens_em_escopo) as bigint) as ordens_em_escopo,
        sum(total_csv) as total_csv,
        sum(total_base_escopo) as total_base_escopo
    from lados_conciliacao
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
        fatos.linhas_base_escopo,
        fatos.casadas - fatos.ordens_casadas_divergentes as conciliadas_sem_divergencia,
        fatos.tipo_1,
        fatos.tipo_2,
        fatos.tipo_3_valor,
        fatos.tipo_3_data,
        fatos.tipo_3_fornecedor,
        fatos.tipo_3_ativo,
        fatos.tipo_3_nome,
        case when fatos.ordens_em_escopo = 0 then 0.0
            else fatos.ordens_divergentes / fatos.ordens_em_escopo end as taxa_divergencia,
        cobertura.inicio as cobertura_inicio,
        cobertura.fim as cobertura_fim,
        cast($arquivo_chegou_em as timestamptz) as arquivo_chegou_em,
        cast($sla_prazo as timestamptz) as sla_prazo,
        cast($sla_cumprido as boolean) as sla_cumprido,
        cast(fatos.total_csv as decimal(38, 2)) as total_csv,
        cast(fatos.total_base_escopo as decimal(38, 2)) as total_base_escopo,
        cast(fatos.soma_tipo_1 - fatos.soma_tipo_2 + fatos.soma_tipo_3_valor as decimal(38, 2))
            as total_explicado,
        cast(fatos.total_csv - fatos.total_base_escopo
            - (fatos.soma_tipo_1 - fatos.soma_tipo_2 + fatos.soma_tipo_3_valor) as decimal(38, 2))
            as diferenca_nao_explicada,
        fatos.casadas
    from linhas, fatos, cobertura
)

select * from resumo
