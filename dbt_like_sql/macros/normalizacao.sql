-- Normalisation shared by both sides (SPEC 2.1): every string field is trimmed (space, tab,
-- no-break space) and put in Unicode NFC before any comparison or hash. No case folding.
-- trim() with a character set is costly, so it only runs when an edge could need it.
create or replace macro texto_normalizado(s) as
    nfc_normalize(
        case
            when starts_with(s, ' ') or ends_with(s, ' ') or contains(s, chr(9)) or contains(s, chr(160))
                then trim(s, ' ' || chr(9) || chr(160))
            else s
        end
    );

-- A CSV field as written: surrounding quotes removed and "" turned back into ".
create or replace macro campo_sem_aspas(f) as
    case
        when contains(f, '"')
            then replace(substr(trim(f, ' '), 2, length(trim(f, ' ')) - 2), '""', '"')
        else f
    end;

-- A field matched with its delimiter (linhas_avaliadas: a quoted line's fields) without that one
-- last character; `com_delimitador` false: the field as it is.
create or replace macro sem_delimitador(f, com_delimitador) as
    case when com_delimitador then substr(f, 1, length(f) - 1) else f end;

-- `data` as YYYY-MM-DD or DD/MM/YYYY, a real calendar day; null otherwise.
-- The shape is checked first because strptime alone accepts 2024-2-3.
create or replace macro data_valida(s) as
    case
        when regexp_full_match(s, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
            then cast(try_strptime(s, '%Y-%m-%d') as date)
        when regexp_full_match(s, '[0-9]{2}/[0-9]{2}/[0-9]{4}')
            then cast(try_strptime(s, '%d/%m/%Y') as date)
    end;
