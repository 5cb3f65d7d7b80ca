"""The local Glue the other tests rely on answers the Glue API over HTTP."""


def test_local_glue_starts_empty_and_keeps_a_database(glue):
    assert glue.get_databases()["DatabaseList"] == []
    glue.create_database(DatabaseInput={"Name": "dev_sales"})
    assert [db["Name"] for db in glue.get_databases()["DatabaseList"]] == ["dev_sales"]
