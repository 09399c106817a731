-- The amount a break leaves unexplained (SPEC 5.4): TIPO_1 the file's valor, TIPO_2 the base's,
-- TIPO_3_VALOR the difference; the other fields carry no amount.
create or replace macro valor_em_jogo(tipo, valor_csv, valor_base, valor_diferenca) as
    case tipo
        when 'TIPO_1' then abs(valor_csv)
        when 'TIPO_2' then abs(valor_base)
        when 'TIPO_3_VALOR' then abs(valor_diferenca)
        else 0 end;
