-- `nome` masked as in logs (SPEC 7): only the last word is kept, "José da Silva" -> "***Silva".
create or replace macro mascara_nome(nome) as
    '***' || coalesce(list_last(string_split(trim(regexp_replace(nome, '\s+', ' ', 'g')), ' ')), '');

-- The same inside `detalhes` of TIPO_3_NOME ("nome_csv=Ana Lima; nome_base=Ana Lima Jr").
create or replace macro mascara_detalhes(detalhes) as
    regexp_replace(detalhes, '(nome_(?:csv|base)=)(?:[^;]*\s)?([^;\s]*)\s*(;|$)', '\1***\2\3', 'g');

-- A CSV export's string cell that a spreadsheet would run as a formula gets a leading quote (SPEC 7).
create or replace macro csv_seguro(texto) as
    case when regexp_matches(texto, '^[=+\-@\t\r]') then '''' || texto else texto end;
