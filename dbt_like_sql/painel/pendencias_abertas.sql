-- Open breaks on the period's last date by age band, with the amount at stake (SPEC 5.4).
-- Same supplier/type/severity filters as the divergences; resolved breaks are not open.
select
    faixa_idade,
    count(*) as pendencias,
    cast(coalesce(sum(valor_em_jogo(tipo_divergencia, valor_csv, valor_base, valor_diferenca)), 0)
        as decimal(38, 2)) as valor
from pendencias
where data_referencia = $fim
    and situacao <> 'RESOLVIDA'
    and (len($fornecedores) = 0 or list_contains($fornecedores, fornecedor_id))
    and (len($tipos) = 0 or list_contains($tipos, tipo_divergencia))
    and (len($severidades) = 0 or list_contains($severidades, severidade))
group by faixa_idade
order by case faixa_idade when '0-1' then 1 when '2-7' then 2 when '8-30' then 3 else 4 end
