-- Grain: one row: an order-free digest of D's breaks (job_id and timestamp left out), so a re-run
-- that gives the same rows is recognised as such. DuckDB's hash(): always computed by DuckDB over
-- the written file (reconciliation_assets/breaks.py), whichever engine computed the rows, so a
-- chain's digests compare across engines. Input: pendencias.
select
    count(*) || ':' || coalesce(sum(hash(pendencia_id, fornecedor_id, severidade, valor_csv, valor_base,
        valor_diferenca, detalhes, situacao, aberta_em, vista_em, resolvida_em)::hugeint), 0) as conteudo
from pendencias
