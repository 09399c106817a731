-- Grain: one row per non-blank data line of the day's files (header and blank lines excluded).
-- Every line gets its parsed fields and the first quarantine reason that applies in the SPEC's
-- order (section 3), except DUPLICATE_ORDEM_ID, which needs the whole day (linhas_classificadas.sql).
-- One streaming pass: nothing here needs to see two lines at once.
-- Inputs: linhas (arquivo_idx, linha, conteudo), arquivos (one row per file: its delimiter,
-- field count and the position of each required column). Parameters: $data_referencia, $max_age_days.
with

linhas_de_dados as (
    select
        l.arquivo_idx,
        a.arquivo,
        l.linha,
        l.conteudo,
        a.delimitador,
        a.n_campos,
        a.pos_fornecedor_id,
        a.pos_ordem_id,
        a.pos_nome,
        a.pos_ativo_id,
        a.pos_data,
        a.pos_valor
    from linhas as l
    inner join arquivos as a on l.arquivo_idx = a.arquivo_idx
    where l.linha > 1
      and not regexp_full_match(l.conteudo, E'[ \t]*')  -- blank lines are counted apart
),

-- A field is either quoted ("" escapes a quote, spaces allowed around it) or has no quote at all.
-- Lines without any quote (nearly all) are split directly; the others with a quote-aware regex,
-- after appending one delimiter so that every field ends with one and the regex never matches empty.
-- That regex has no capture group (RE2 finds whole matches about twice as fast as it extracts a
-- group), so each field of a quoted line still ends with its delimiter: campos_lidos removes it.
campos_separados as (
    select
        *,
        contains(conteudo, '"') as com_aspas,
        not contains(conteudo, '"') or case delimitador
            when ';' then regexp_full_match(conteudo || ';', '(?:( *"[^"]*(?:""[^"]*)*" *|[^;"]*);)+')
            when ',' then regexp_full_match(conteudo || ',', '(?:( *"[^"]*(?:""[^"]*)*" *|[^,"]*),)+')
            else regexp_full_match(conteudo || E'\t', E'(?:( *"[^"]*(?:""[^"]*)*" *|[^\t"]*)\t)+')
        end as aspas_ok,
        case
            when not contains(conteudo, '"') then string_split(conteudo, delimitador)
            when delimitador = ';' then regexp_extract_all(conteudo || ';', '(?: *"[^"]*(?:""[^"]*)*" *|[^;"]*);')
            when delimitador = ',' then regexp_extract_all(conteudo || ',', '(?: *"[^"]*(?:""[^"]*)*" *|[^,"]*),')
            else regexp_extract_all(conteudo || E'\t', E'(?: *"[^"]*(?:""[^"]*)*" *|[^\t"]*)\t')
        end as campos
    from linhas_de_dados
),

-- Each required field as split: a quoted line's field without its trailing delimiter (one character).
campos_lidos as (
    select
        arquivo_idx,
        arquivo,
        linha,
        conteudo,
        n_campos,
        aspas_ok,
        array_length(campos) as n_lidos,  -- array_length, not len: the same on DuckDB, and portable
        sem_delimitador(campos[pos_fornecedor_id], com_aspas) as fornecedor_id,
        sem_delimitador(campos[pos_ordem_id], com_aspas) as ordem_id,
        sem_delimitador(campos[pos_nome], com_aspas) as nome,
        sem_delimitador(campos[pos_ativo_id], com_aspas) as ativo_id,
        sem_delimitador(campos[pos_data], com_aspas) as data_texto,
        sem_delimitador(campos[pos_valor], com_aspas) as valor_texto
    from campos_separados
),

-- Unquoted and normalised, over the columns above (a separate step: the macros name their argument
-- several times, and a nested expression would be evaluated again at each mention).
campos_nomeados as (
    select
        arquivo_idx,
        arquivo,
        linha,
        conteudo,
        n_campos,
        aspas_ok,
        n_lidos,
        texto_normalizado(campo_sem_aspas(fornecedor_id)) as fornecedor_id,
        texto_normalizado(campo_sem_aspas(ordem_id)) as ordem_id,
        texto_normalizado(campo_sem_aspas(nome)) as nome,
        texto_normalizado(campo_sem_aspas(ativo_id)) as ativo_id,
        texto_normalizado(campo_sem_aspas(data_texto)) as data_texto,
        texto_normalizado(campo_sem_aspas(valor_texto)) as valor_texto
    from campos_lidos
),

tipados as (
    select
        *,
        valor_centavos(valor_texto) as centavos,
        data_valida(data_texto) as data
    from campos_nomeados
),

motivo_sem_duplicidade as (
    select
        *,
        case
            when contains(conteudo, chr(0)) then 'MALFORMED_ROW'  -- NUL: binary or UTF-16 data, not text
            when not aspas_ok then 'MALFORMED_ROW'
            when n_lidos <> n_campos then 'MALFORMED_ROW'
            when fornecedor_id = '' or ordem_id = '' or nome = '' or ativo_id = ''
                or data_texto = '' or valor_texto = '' then 'MISSING_FIELD'
            when centavos is null then 'INVALID_VALOR'
            when data is null then 'INVALID_DATA'
            when data > cast($data_referencia as date) then 'DATE_OUT_OF_RANGE'
            when data < cast($data_referencia as date) - cast($max_age_days as integer) then 'DATE_OUT_OF_RANGE'
        end as motivo_previo
    from tipados
),

avaliadas as (
    select
        arquivo_idx,
        arquivo,
        linha,
        conteudo,
        fornecedor_id,
        ordem_id,
        nome,
        ativo_id,
        data,
        centavos_para_decimal(centavos) as valor,
        motivo_previo,
        case
            when contains(conteudo, chr(0))
                then 'caractere nulo (byte 0x00) na linha'
            when not aspas_ok
                then 'aspas não fechadas ou texto após aspas'
            when n_lidos <> n_campos
                then 'esperados ' || n_campos || ' campos, encontrados ' || n_lidos
            when motivo_previo = 'MISSING_FIELD'
                then 'campo(s) vazio(s): ' || concat_ws(', ',
                    case when fornecedor_id = '' then 'fornecedor_id' end,
                    case when ordem_id = '' then 'ordem_id' end,
                    case when nome = '' then 'nome' end,
                    case when ativo_id = '' then 'ativo_id' end,
                    case when data_texto = '' then 'data' end,
                    case when valor_texto = '' then 'valor' end)
            when motivo_previo = 'INVALID_VALOR'
                then 'valor ''' || valor_texto || ''' não é um decimal válido (use 1234.56 ou 1234,56, até decimal(18,2))'
            when motivo_previo = 'INVALID_DATA'
                then 'data ''' || data_texto || ''' não é um dia válido (YYYY-MM-DD ou DD/MM/YYYY)'
            when motivo_previo = 'DATE_OUT_OF_RANGE' and data > cast($data_referencia as date)
                then 'data ' || strftime(data, '%Y-%m-%d') || ' posterior à data de referência ' || $data_referencia
            when motivo_previo = 'DATE_OUT_OF_RANGE'
                then 'data ' || strftime(data, '%Y-%m-%d') || ' anterior a ' || $max_age_days || ' dias antes de ' || $data_referencia
        end as detalhe_previo
    from motivo_sem_duplicidade
)

select * from avaliadas
