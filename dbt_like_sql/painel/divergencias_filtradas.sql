-- The dashboard's filtered divergences (SPEC 7): period and optional suppliers, types and severities.
-- An empty list means "no filter on that column". `nome` is masked as in logs (***Silva), also
-- inside `detalhes` of TIPO_3_NOME, so nothing below can show or export a full name.
select
    data_referencia,
    fornecedor_id,
    ordem_id,
    mascara_nome(nome) as nome,
    ativo_id,
    data,
    data_base,
    valor_csv,
    valor_base,
    valor_diferenca,
    tipo_divergencia,
    mascara_detalhes(detalhes, nome) as detalhes,
    severidade
from divergencias
where data_referencia between $inicio and $fim
    and (len($fornecedores) = 0 or list_contains($fornecedores, fornecedor_id))
    and (len($tipos) = 0 or list_contains($tipos, tipo_divergencia))
    and (len($severidades) = 0 or list_contains($severidades, severidade))
