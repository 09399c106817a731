-- `nome` masked as in logs (SPEC 7): only the last word is kept, "José da Silva" -> "***Silva".
create or replace macro mascara_nome(nome) as
    '***' || coalesce(list_last(string_split(trim(regexp_replace(nome, '\s+', ' ', 'g')), ' ')), '');

-- The same inside `detalhes` of TIPO_3_NOME, which divergencias.sql writes as
-- 'campo=nome; nome_csv=<nome>; nome_base=<nome da base>'. Names may hold ';', so the CSV name is
-- matched as the row's own `nome`, not by pattern; any other shape mentioning names shows none.
create or replace macro mascara_detalhes(detalhes, nome) as
    case
        when starts_with(detalhes, 'campo=nome; nome_csv=' || nome || '; nome_base=') then
            'campo=nome; nome_csv=' || mascara_nome(nome) || '; nome_base='
            || mascara_nome(substr(detalhes, length('campo=nome; nome_csv=' || nome || '; nome_base=') + 1))
        when starts_with(detalhes, 'campo=nome') then 'campo=nome; nome_csv=***; nome_base=***'
        else detalhes
    end;

-- A CSV export's string cell that a spreadsheet would run as a formula gets a leading quote (SPEC 7).
create or replace macro csv_seguro(texto) as
    case when regexp_matches(texto, '^[=+\-@\t\r]') then '''' || texto else texto end;
