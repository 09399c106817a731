"""The daily chain: arquivos_fornecedor → transacoes_validadas/quarentena → base_interna_snapshot
→ divergencias → resumo_conciliacao. Each module holds one step."""
