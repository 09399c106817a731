-- Age band of an open break by its days open (SPEC 5.4): 0-1, 2-7, 8-30, >30.
create or replace macro faixa_idade(dias) as
    case when dias <= 1 then '0-1' when dias <= 7 then '2-7' when dias <= 30 then '8-30' else '>30' end;
