-- Grain: one row per internal transaction in scope for the date, normalised like the CSV side.
-- Input: base_bruta, the rows read from the internal base (valor as exact text).
with bruta as (select * from base_bruta)
select
    texto_normalizado(fornecedor_id) as fornecedor_id,
    texto_normalizado(ordem_id) as ordem_id,
    texto_normalizado(nome) as nome,
    texto_normalizado(ativo_id) as ativo_id,
    cast(data as date) as data,
    centavos_para_decimal(valor_centavos(texto_normalizado(valor))) as valor
from bruta
